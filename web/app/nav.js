// Moves to a screen of the dashboard: "channels/<id>" becomes #/channels/<id>.
export const navigate = (path) => { location.hash = '#/' + path; };
