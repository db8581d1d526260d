import './dashboard.css';
